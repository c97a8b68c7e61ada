"""Names and timeouts shared by workflows, activities, the worker and the starter."""

from datetime import timedelta

DEFAULT_TASK_QUEUE = "coachflow"

DRAFT_ASSESSMENT = "draft_assessment"
SAVE_DRAFT = "save_draft"
RECORD_DECISION = "record_decision"
RECORD_REVIEW_STEP = "record_review_step"
START_COACHING = "start_coaching"
TASK_STEP = "task_step"
ANSWER_SURVEY = "answer_survey"
EXPIRE_SURVEYS = "expire_surveys"
RECORD_RESPONSE = "record_response"
RESOLVE_DISPUTE = "resolve_dispute"
CLOSE_ASSESSMENT = "close_assessment"

LOCAL_ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_MAX_INTERVAL = timedelta(seconds=30)
