package config

import (
	"fmt"
	"strings"
)

// FieldError is one problem with the configuration.
type FieldError struct {
	// Key is the key path, like c2s.listen or hosts[1].domain; it is empty
	// for a problem with the file as a whole (YAML syntax).
	Key string
	// File and Line say where the value came from, when it came from the
	// configuration file. Line is 0 when unknown.
	File string
	Line int
	// Env names the environment variable the value came from, if it did.
	Env string
	// Msg says what is wrong and what is expected.
	Msg string

	col int // column in the file, to order errors on one line
}

// Error formats e as "key (file:line): msg", "key (ENV_VAR): msg" or
// "key: msg", or "file:line: msg" for a problem without a key.
func (e *FieldError) Error() string {
	var where string
	switch {
	case e.File != "" && e.Line > 0:
		where = fmt.Sprintf("%s:%d", e.File, e.Line)
	case e.File != "":
		where = e.File
	case e.Env != "":
		where = e.Env
	}
	switch {
	case e.Key == "" && where == "":
		return e.Msg
	case e.Key == "":
		return where + ": " + e.Msg
	case where == "":
		return e.Key + ": " + e.Msg
	default:
		return e.Key + " (" + where + "): " + e.Msg
	}
}

// oneOf formats a list of choices for a message: "debug, info, warn, error".
func oneOf(choices []string) string {
	return strings.Join(choices, ", ")
}
