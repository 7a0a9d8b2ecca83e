"""The exercises of the course's notebooks, one module per notebook (``notebook_<prefix>.py``).

Each module declares its notebook's exercises with :func:`crm_models.course.exercises.register`
and exports nothing; :func:`crm_models.course.check` imports every module here on first use. An
exercise is the notebook's "hidden test": it computes the right answer from the context the
notebook passes to :func:`~crm_models.course.check`, and lists the typical mistakes with their
hints. The solutions live apart, in ``notebooks/solutions/<notebook>.py``.
"""

__all__: list[str] = []
