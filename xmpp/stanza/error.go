package stanza

import (
	"junction/xmpp/xmltok"
)

// ErrorType is the 'type' of a stanza error (RFC 6120 §8.3.2).
type ErrorType string

// Error types.
const (
	Auth     ErrorType = "auth"
	Cancel   ErrorType = "cancel"
	Continue ErrorType = "continue"
	Modify   ErrorType = "modify"
	Wait     ErrorType = "wait"
)

// Condition is a defined stanza error condition (RFC 6120 §8.3.3).
type Condition string

// Stanza error conditions.
const (
	BadRequest            Condition = "bad-request"
	Conflict              Condition = "conflict"
	FeatureNotImplemented Condition = "feature-not-implemented"
	Forbidden             Condition = "forbidden"
	Gone                  Condition = "gone"
	InternalServerError   Condition = "internal-server-error"
	ItemNotFound          Condition = "item-not-found"
	JIDMalformed          Condition = "jid-malformed"
	NotAcceptable         Condition = "not-acceptable"
	NotAllowed            Condition = "not-allowed"
	NotAuthorized         Condition = "not-authorized"
	PolicyViolation       Condition = "policy-violation"
	RecipientUnavailable  Condition = "recipient-unavailable"
	Redirect              Condition = "redirect"
	RegistrationRequired  Condition = "registration-required"
	RemoteServerNotFound  Condition = "remote-server-not-found"
	RemoteServerTimeout   Condition = "remote-server-timeout"
	ResourceConstraint    Condition = "resource-constraint"
	ServiceUnavailable    Condition = "service-unavailable"
	SubscriptionRequired  Condition = "subscription-required"
	UndefinedCondition    Condition = "undefined-condition"
	UnexpectedRequest     Condition = "unexpected-request"
)

// Error is a stanza error that crosses the wire. Text is safe to show the
// sender; Err is the cause, for the log only.
type Error struct {
	Type      ErrorType
	Condition Condition
	Text      string
	// App is an optional application-specific condition element.
	App *xmltok.Node
	Err error
}

func (e *Error) Error() string {
	s := "stanza error " + string(e.Condition)
	if e.Text != "" {
		s += ": " + e.Text
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Node returns the <error/> element for e.
func (e *Error) Node() *xmltok.Node {
	n := xmltok.NewNode(NSClient, "error", xmltok.Attr{Name: xmltok.Name{Local: "type"}, Value: string(e.Type)})
	n.Add(xmltok.NewNode(NSStanzas, string(e.Condition)))
	if e.Text != "" {
		n.Add(xmltok.NewNode(NSStanzas, "text").SetText(e.Text))
	}
	if e.App != nil {
		n.Add(e.App)
	}
	return n
}

// Errorf is shorthand for an Error with a text.
func Errorf(t ErrorType, c Condition, text string) *Error {
	return &Error{Type: t, Condition: c, Text: text}
}

// ErrorReply builds the error answer to orig: addresses swapped, same id and
// name, type='error'. It returns nil for a stanza that is itself an error, so
// errors never loop.
func ErrorReply(orig *Stanza, e *Error) *Stanza {
	if orig.IsError() {
		return nil
	}
	return New(orig.Name, orig.To, orig.From, "error", orig.ID, e.Node())
}
