"""Every callback_id, action_id and block_id the app uses, in one place."""

from __future__ import annotations

from enum import StrEnum

COMMAND = "/coregroup"


class View(StrEnum):
    NEW_CASE = "case_new"
    MEMBER_ADD = "member_add"
    MEMBER_ADD_OFFLINE = "member_add_offline"
    MEMBER_EDIT = "member_edit"
    MEMBER_REMOVE = "member_remove"
    MEMBER_INVITE = "member_invite"  # invite a professional by work email (Slack Connect)
    MY_DETAILS = "member_my_details"
    PLAN_EDIT = "plan_edit"
    SCHEDULE = "meeting_schedule"
    MEETING_MOVE = "meeting_move"
    MEETING_CANCEL = "meeting_cancel"
    UPDATE = "update_send"
    START = "meeting_start"
    SCALE_ASK = "scale_ask"
    SCALE_SCORE = "scale_score"
    DECISION = "decision_record"
    ACTION_ADD = "action_add"
    ACTION_PROGRESS = "action_progress"
    ACTION_NEW_DATE = "action_new_date"
    END = "meeting_end"
    RECAP_CORRECT = "recap_correct"
    CLOSE = "case_close"
    AWAY = "member_away"
    FAMILY_PREPARE = "family_prepare"  # the family version, prepared from the record (issue 12)
    FAMILY_GIVEN = "family_given"
    FAMILY_VIEWS = "family_views"  # the family's views and scores, recorded on their behalf
    CHAIR_PICK = "meeting_chair_pick"  # the lead social worker picks another chair after the chair's apologies


class Action(StrEnum):
    PICK_CASE = "case_pick"
    HELP_OPEN = "help_open"
    MEMBERS_ADD = "members_add"
    MEMBERS_ADD_OFFLINE = "members_add_offline"
    MEMBERS_EDIT = "members_edit"
    MEMBERS_REMOVE = "members_remove"
    MEMBERS_CANCEL_INVITE = "members_cancel_invite"
    MEMBERS_INVITE = "members_invite"
    MY_DETAILS = "my_details"
    PLAN_EDIT = "plan_edit"
    # meeting posts and reminders
    ATTENDING = "meeting_attending"
    SEND_APOLOGIES = "meeting_apologies"
    SEND_UPDATE = "meeting_send_update"
    MEETING_MOVE = "meeting_move"
    MEETING_CANCEL = "meeting_cancel"
    # "Book the next meeting": the schedule form from a button (people from other organisations), value {"c": case_id}
    MEETING_BOOK = "meeting_book"
    # scaling
    GIVE_SCORE = "scale_give_score"
    REVEAL = "scale_reveal"
    # actions
    ACTION_DONE = "action_done"
    ACTION_PROGRESS = "action_progress"
    ACTION_NEW_DATE = "action_new_date"
    ACTIONS_PAGE = "actions_page"
    # start scaling, a decision or an action from a button (people from other organisations), value {"c": case_id}
    SCALE_START = "scale_start"
    DECISION_START = "decision_start"
    ACTION_ADD_START = "action_add_start"
    # recap
    RECAP_POST = "recap_post"
    RECAP_EDIT = "recap_edit"
    RECAP_READ = "recap_read"
    RECAP_CORRECT = "recap_correct"
    # plain-language check
    POST_ANYWAY = "plain_post_anyway"
    # home
    HOME_PAGE = "home_page"
    HOME_PAGE_PREVIOUS = "home_page_previous"  # the same pager; its own id, as two buttons in a block must be
    HOME_OPEN_CASE = "home_open_case"
    # start from the pinned "What can I do here?" message
    HERE_UPDATE = "here_update"
    HERE_ACTIONS = "here_actions"
    HERE_MY_DETAILS = "here_my_details"
    HERE_PLAN = "here_plan"
    HERE_MEMBERS = "here_members"
    # `/coregroup export` (engineer G): which meeting's record to send, value {"c": case_id, "m": meeting_id}
    EXPORT_PICK = "export_pick"
    FAMILY_PREPARE = "family_prepare"
    FAMILY_APPROVE = "family_approve"
    FAMILY_GIVEN = "family_given"
    FAMILY_VIEWS = "family_views"
    FAMILY_PANEL = "family_panel"
    # the chair's buttons (a chair from any organisation), value {"c": case_id, "m": meeting_id}
    MEETING_START = "meeting_start_button"
    MEETING_END = "meeting_end_button"
    CHAIR_ACTION = "chair_action_add"
    # after the chair's apologies, to the lead social worker, value {"c": case_id, "m": meeting_id}
    CHAIR_TAKE = "chair_take"
    CHAIR_PICK = "chair_pick"


class Shortcut(StrEnum):
    RECORD_DECISION = "shortcut_record_decision"
    MAKE_ACTION = "shortcut_make_action"


class Block(StrEnum):
    """block_id of each input; the matching action_id is the same string with `_input`."""

    REFERENCE = "reference"
    CHILDREN = "children"
    INITIAL = "initial"
    REVIEW = "review"
    FREQUENCY = "frequency"
    PROFESSIONALS = "professionals"
    EMAILS = "emails"
    EMAIL = "email"
    LEAD = "lead"
    CREATOR_ROLE = "creator_role"
    USER = "user"
    ROLE = "role"
    AGENCY = "agency"
    MANAGER = "manager"
    NAME = "name"
    RELATIONSHIP = "relationship"
    MEMBER = "member"
    AWAY_UNTIL = "away_until"
    DANGER = "danger"
    GOAL = "goal"
    BOTTOM_LINE = "bottom_line"
    REASON = "reason"
    DATE = "date"
    TIME = "time"
    LENGTH = "length"
    LOCATION = "location"
    CHAIR = "chair"
    OUTCOME = "outcome"  # closing a case (engineer F): why it closed
    # the update form (engineer A); per-action and per-question blocks add "_<id>"
    UPDATE_ATTENDING = "update_attending"
    UPDATE_CHILD_VIEWS = "update_child_views"
    UPDATE_CONTACTS = "update_contacts"
    UPDATE_CHILD_SEEN = "update_child_seen"
    UPDATE_SEEN_ALONE = "update_seen_alone"
    UPDATE_WORKING_WELL = "update_working_well"
    UPDATE_WORRIES = "update_worries"
    UPDATE_NEEDS = "update_needs"
    UPDATE_ACTION_STATUS = "update_action_status"
    UPDATE_ACTION_NOTE = "update_action_note"
    UPDATE_SCORE = "update_score"
    UPDATE_SCORE_REASON = "update_score_reason"
    UPDATE_SCORE_UP = "update_score_up"
    # starting a meeting: one attendance choice per member, "start_attendance_<member id>"
    START_ATTENDANCE = "start_attendance"
    # ending a meeting and correcting its record (engineer C)
    RECAP_KEY_POINTS = "recap_key_points"
    RECAP_RISK = "recap_risk"
    RECAP_CHILD_VIEWS = "recap_child_views"
    RECAP_CHILD_MISSING = "recap_child_missing"
    RECAP_PARENTS_VIEWS = "recap_parents_views"
    RECAP_RECOMMENDATION = "recap_recommendation"
    RECAP_NEXT_DATE = "recap_next_date"
    RECAP_NEXT_NONE = "recap_next_none"  # "Do not book it yet"
    RECAP_NEXT_TIME = "recap_next_time"
    RECAP_NEXT_CHAIR = "recap_next_chair"
    RECAP_REASON = "recap_reason"
    RECAP_REFRESH = "recap_refresh"
    # scaling, decisions and actions (engineer B)
    SCALE_EXISTING = "scale_existing"
    SCALE_QUESTION = "scale_question"
    SCALE_ZERO = "scale_zero"
    SCALE_TEN = "scale_ten"
    SCALE_CHILD = "scale_child"
    SCALE_DANGER = "scale_danger"
    SCALE_STANDING = "scale_standing"
    SCALE_GOAL = "scale_goal"
    SCORE = "score"
    SCORE_REASON = "score_reason"
    SCORE_UP = "score_up"
    DECISION_TEXT = "decision_text"
    ACTION_WHAT = "action_what"
    ACTION_OWNER = "action_owner"
    ACTION_DUE = "action_due"
    ACTION_MEASURE = "action_measure"
    ACTION_GOAL = "action_goal"
    PROGRESS_NOTE = "progress_note"
    FAMILY_SECTION = "family_section"  # followed by "_" and the section's key
    FAMILY_INCLUDE = "family_include"
    GIVEN_TO = "given_to"
    GIVEN_ON = "given_on"
    GIVEN_HOW = "given_how"
    GIVEN_INTERPRETER = "given_interpreter"
    FAMILY_MEMBER = "family_member"
    FAMILY_WELL = "family_well"
    FAMILY_WORRIES = "family_worries"
    FAMILY_HELP = "family_help"
    FAMILY_SCORE = "family_score"  # followed by "_" and the question id
    FAMILY_SCORE_REASON = "family_score_reason"  # followed by "_" and the question id


def input_id(block: str) -> str:
    """The action_id of the element inside an input block."""
    return f"{block}_input"
