"""Tables, sessions, migrations and domain operations. No Slack imports here."""
