"""Filipino (fil): Django ships no locale for it, so its date and number formats are here
(FORMAT_MODULE_PATH) and its month and day names are in the project's catalogue (names.py)."""
