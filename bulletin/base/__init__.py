"""The base every stage stands on: the error family and the one internal audio form."""
