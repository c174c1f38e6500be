"""Named scenarios and the jobs the command line runs."""
