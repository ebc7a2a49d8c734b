-- Schema version 3: persistent multi-user chat rooms (XEP-0045). A room
-- belongs to a MUC service domain, not to an account; its affiliations go
-- with it.

CREATE TABLE rooms (
	service        TEXT    NOT NULL, -- the MUC service's domain
	name           TEXT    NOT NULL, -- the room's localpart
	title          TEXT    NOT NULL,
	description    TEXT    NOT NULL,
	public         INTEGER NOT NULL CHECK (public IN (0, 1)),
	members_only   INTEGER NOT NULL CHECK (members_only IN (0, 1)),
	moderated      INTEGER NOT NULL CHECK (moderated IN (0, 1)),
	password       TEXT    NOT NULL, -- '' when not password-protected
	whois          TEXT    NOT NULL CHECK (whois IN ('moderators', 'anyone')),
	max_users      INTEGER NOT NULL,
	change_subject INTEGER NOT NULL CHECK (change_subject IN (0, 1)),
	allow_invites  INTEGER NOT NULL CHECK (allow_invites IN (0, 1)),
	history_length INTEGER NOT NULL,
	subject        TEXT    NOT NULL,
	subject_by     TEXT    NOT NULL,
	PRIMARY KEY (service, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE room_affiliations (
	service     TEXT NOT NULL,
	name        TEXT NOT NULL,
	jid         TEXT NOT NULL, -- bare JID or domain, canonical
	affiliation TEXT NOT NULL CHECK (affiliation IN ('owner', 'admin', 'member', 'outcast')),
	reason      TEXT NOT NULL,
	PRIMARY KEY (service, name, jid),
	FOREIGN KEY (service, name) REFERENCES rooms (service, name) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
