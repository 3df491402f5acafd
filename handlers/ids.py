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


class Action(StrEnum):
    PICK_CASE = "case_pick"
    HELP_OPEN = "help_open"
    MEMBERS_ADD = "members_add"
    MEMBERS_ADD_OFFLINE = "members_add_offline"
    MEMBERS_EDIT = "members_edit"
    MEMBERS_REMOVE = "members_remove"
    MEMBERS_CANCEL_INVITE = "members_cancel_invite"
    MY_DETAILS = "my_details"
    PLAN_EDIT = "plan_edit"
    # meeting posts and reminders
    ATTENDING = "meeting_attending"
    SEND_APOLOGIES = "meeting_apologies"
    SEND_UPDATE = "meeting_send_update"
    MEETING_MOVE = "meeting_move"
    MEETING_CANCEL = "meeting_cancel"
    # scaling
    GIVE_SCORE = "scale_give_score"
    REVEAL = "scale_reveal"
    # actions
    ACTION_DONE = "action_done"
    ACTION_PROGRESS = "action_progress"
    ACTION_NEW_DATE = "action_new_date"
    ACTIONS_PAGE = "actions_page"
    # recap
    RECAP_POST = "recap_post"
    RECAP_EDIT = "recap_edit"
    RECAP_READ = "recap_read"
    RECAP_CORRECT = "recap_correct"
    # plain-language check
    POST_ANYWAY = "plain_post_anyway"
    # home
    HOME_PAGE = "home_page"
    HOME_OPEN_CASE = "home_open_case"
    # start from the pinned "What can I do here?" message
    HERE_UPDATE = "here_update"
    HERE_ACTIONS = "here_actions"
    HERE_MY_DETAILS = "here_my_details"
    HERE_PLAN = "here_plan"
    HERE_MEMBERS = "here_members"


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


def input_id(block: str) -> str:
    """The action_id of the element inside an input block."""
    return f"{block}_input"
