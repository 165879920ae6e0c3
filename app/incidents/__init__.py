"""Incidents: postmortems of resolved alert threads, the incident memory that finds them again, and
the private catch-up; everything a reader gets is built from the turns their scope covers."""
