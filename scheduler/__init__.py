"""The release engine: pure planning of what each enrolment receives, and when."""
