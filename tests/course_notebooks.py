"""Notebooks held to the course standard, grown as notebooks are converted.

A notebook listed here must (tests/test_prose_numbers.py, tests/test_exercises.py):
- quote no number in its Markdown prose that is neither rendered from code nor bound to code beside it
  (crm_models.course.prose.unbound_numbers);
- check every exercise with crm_models.course.check: one check call per "Exercise N" prompt.
Every notebook that calls check() has its checks run against notebooks/solutions/<notebook>.py, listed
here or not.
"""

COURSE_READY = [
    "00_start_here.ipynb",
    "00b_simulated_company.ipynb",
    "01_identify_customers.ipynb",
    "02_lifetime_value.ipynb",
    "02b_contractual_retention.ipynb",
    "02c_bgnbd_from_scratch.ipynb",
    "03_differentiate_customers.ipynb",
    "04_interact_and_customize.ipynb",
    "05_customer_strategy_end_to_end.ipynb",
    "06_is_the_model_right.ipynb",
    "07_covariates.ipynb",
    "08_regular_buyers_and_contracts.ipynb",
    "09_learning_relationship.ipynb",
    "10_one_face_and_lookalikes.ipynb",
    "11_team_scorecard.ipynb",
    "12_capstone_real_data.ipynb",
]
