"""The web pages: public, relative, staff, admin and the demo inbox."""
