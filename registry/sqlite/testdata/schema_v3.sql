-- Frozen copy of schema version 3 as released; never edit. TestMigrateFrozen
-- opens a database built from it and checks it migrates to the current schema.
-- Version 3 adds persistent MUC rooms and their affiliations to version 2;
-- rooms belong to a service domain, not to an account.
CREATE TABLE accounts (
	host              TEXT    NOT NULL,
	username          TEXT    NOT NULL,
	sha1_salt         BLOB    NOT NULL,
	sha1_iterations   INTEGER NOT NULL,
	sha1_stored_key   BLOB    NOT NULL,
	sha1_server_key   BLOB    NOT NULL,
	sha256_salt       BLOB    NOT NULL,
	sha256_iterations INTEGER NOT NULL,
	sha256_stored_key BLOB    NOT NULL,
	sha256_server_key BLOB    NOT NULL,
	created           INTEGER NOT NULL, -- unix seconds
	PRIMARY KEY (host, username)
) STRICT, WITHOUT ROWID;

CREATE TABLE roster_items (
	host              TEXT    NOT NULL,
	username          TEXT    NOT NULL,
	contact           TEXT    NOT NULL, -- bare JID, canonical
	name              TEXT    NOT NULL,
	groups_json       TEXT    NOT NULL, -- JSON array of group names
	subscription      TEXT    NOT NULL CHECK (subscription IN ('none', 'to', 'from', 'both')),
	ask               INTEGER NOT NULL CHECK (ask IN (0, 1)),
	pending_in        INTEGER NOT NULL CHECK (pending_in IN (0, 1)),
	pending_in_stanza TEXT    NOT NULL,
	approved          INTEGER NOT NULL CHECK (approved IN (0, 1)),
	in_roster         INTEGER NOT NULL CHECK (in_roster IN (0, 1)),
	PRIMARY KEY (host, username, contact),
	FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- One row per account whose roster ever changed; no row means version 0.
CREATE TABLE roster_versions (
	host     TEXT    NOT NULL,
	username TEXT    NOT NULL,
	version  INTEGER NOT NULL,
	PRIMARY KEY (host, username),
	FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

-- AUTOINCREMENT: an id is never reused, so deleting by a stale id cannot
-- remove a newer message.
CREATE TABLE offline_messages (
	id       INTEGER PRIMARY KEY AUTOINCREMENT,
	host     TEXT    NOT NULL,
	username TEXT    NOT NULL,
	stanza   TEXT    NOT NULL,
	stored   INTEGER NOT NULL, -- unix milliseconds
	FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
) STRICT;
CREATE INDEX offline_messages_by_account ON offline_messages (host, username, id);

CREATE TABLE account_data (
	host     TEXT NOT NULL,
	username TEXT NOT NULL,
	key      TEXT NOT NULL, -- "vcard", "private:<namespace>", …
	value    TEXT NOT NULL,
	PRIMARY KEY (host, username, key),
	FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

CREATE TABLE blocklist (
	host     TEXT NOT NULL,
	username TEXT NOT NULL,
	jid      TEXT NOT NULL,
	PRIMARY KEY (host, username, jid),
	FOREIGN KEY (host, username) REFERENCES accounts (host, username) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;

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
