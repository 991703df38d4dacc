"""The dashboard (`/dashboard`) and the offline API docs (`/docs`, `/redoc`), from the package."""
