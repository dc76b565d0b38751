"""The proof that nothing leaks (issue 3): a world of agencies, cases, shares and markers,
an independent oracle of who may see what, and a sweep of every URL pattern as every user."""
