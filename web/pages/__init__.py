"""Server-rendered pages for leads, trainees and admins."""
