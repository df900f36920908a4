"""The messaging apps customers reach us on, one package each (issue 18)."""
