"""``onboard``, the command line: argument parsing (:mod:`.main`) and what each command does."""
