"""One module per input: each turns a protocol client's answers into points."""
