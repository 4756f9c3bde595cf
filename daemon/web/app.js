// Placeholder: the search page script.
