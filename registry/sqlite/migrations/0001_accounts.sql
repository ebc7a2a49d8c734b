-- Schema version 1: local accounts and their SCRAM credentials.
-- Tables added later that belong to an account reference it with
-- FOREIGN KEY (host, username) REFERENCES accounts ON DELETE CASCADE.
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
