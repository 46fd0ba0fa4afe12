"""Pure health logic: the normalised readings contract and the rules. Imports nothing else of the project."""
