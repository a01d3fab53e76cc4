"""convstep's web server: FastAPI around core/ (see app.main)."""
