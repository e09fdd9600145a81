"""Microsoft Graph: signing in with msal, and the calls that find and install esmbot for people."""
