"""A toy model family, outside the package, that the tests register with one row of the family
table: if it is served over OSC and by the command line, a new family needs nothing else."""
