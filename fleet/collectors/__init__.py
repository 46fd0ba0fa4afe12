"""I/O at the edge: read part health from management controllers. Collectors never touch the database."""
