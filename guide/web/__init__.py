"""The web pages: public, the relative's, staff, admin and the demo inbox.

Each module is a blueprint named like its module (the same name as its service):
views read the request, call services, commit, and render a page or redirect. They
may import services, guide.mail, models and the pure core; never guide.api or
guide.cli. Domain errors become pages in web.errors; forms that must show an error
at its field collect it with guide.web.forms.
"""
