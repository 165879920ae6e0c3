"""Claude tool-use loop over the tool router."""
