"""Customer conversations in the 1:1 chat, as botbuilder-dialogs waterfalls."""
