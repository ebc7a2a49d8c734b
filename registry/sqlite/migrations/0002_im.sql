-- Schema version 2: instant messaging. Rosters and subscription state
-- (RFC 6121), offline messages (XEP-0160), per-account XML such as vCards
-- and private storage (XEP-0054, XEP-0049), and block lists (XEP-0191).
-- Every table belongs to an account and goes with it.

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
