"""The Teams side of esmbot: the only package, with dialogs/, that imports botbuilder."""
