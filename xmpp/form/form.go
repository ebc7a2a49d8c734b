// Package form owns XEP-0004 data forms: the jabber:x:data element that
// carries configuration forms, their submissions and results, parsed into
// Form values and serialized back. Reported/item tables (multi-item results)
// are not modelled.
package form

import (
	"errors"
	"fmt"

	"junction/xmpp/xmltok"
)

// NS is the data forms namespace.
const NS = "jabber:x:data"

// FormTypeVar is the var of the hidden field that names a form's type
// (XEP-0068).
const FormTypeVar = "FORM_TYPE"

// Type is the type attribute of a form (XEP-0004 §3.1).
type Type string

// Form types.
const (
	TypeForm   Type = "form"
	TypeSubmit Type = "submit"
	TypeCancel Type = "cancel"
	TypeResult Type = "result"
)

// FieldType is the type attribute of a field (XEP-0004 §3.3).
type FieldType string

// Field types. An empty FieldType is text-single on the wire.
const (
	Boolean     FieldType = "boolean"
	Fixed       FieldType = "fixed"
	Hidden      FieldType = "hidden"
	JIDMulti    FieldType = "jid-multi"
	JIDSingle   FieldType = "jid-single"
	ListMulti   FieldType = "list-multi"
	ListSingle  FieldType = "list-single"
	TextMulti   FieldType = "text-multi"
	TextPrivate FieldType = "text-private"
	TextSingle  FieldType = "text-single"
)

// ErrInvalid is returned (wrapped) by Parse for an element that is not a
// well-formed data form.
var ErrInvalid = errors.New("form: invalid data form")

// Option is one choice of a list field.
type Option struct {
	Label, Value string
}

// Field is one field of a form.
type Field struct {
	Var      string
	Type     FieldType
	Label    string
	Desc     string
	Required bool
	Values   []string
	Options  []Option
}

// Value returns the field's first value, or "".
func (f *Field) Value() string {
	if len(f.Values) == 0 {
		return ""
	}
	return f.Values[0]
}

// Form is one data form.
type Form struct {
	Type         Type
	Title        string
	Instructions []string
	Fields       []Field
}

// Field returns the field named v, or nil.
func (f *Form) Field(v string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Var == v {
			return &f.Fields[i]
		}
	}
	return nil
}

// Value returns the first value of the field named v and whether the field
// is present.
func (f *Form) Value(v string) (string, bool) {
	fl := f.Field(v)
	if fl == nil {
		return "", false
	}
	return fl.Value(), true
}

// FormType returns the value of the FORM_TYPE field, or "".
func (f *Form) FormType() string {
	v, _ := f.Value(FormTypeVar)
	return v
}

// ParseBool reads a boolean field value: "1" and "true" are true, "0" and
// "false" false (XEP-0004 §3.3); anything else is an error.
func ParseBool(s string) (bool, error) {
	switch s {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("%w: %q is not a boolean", ErrInvalid, s)
}

// FormatBool returns the canonical wire form of b, "1" or "0".
func FormatBool(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Parse reads a jabber:x:data element. It refuses an element of another
// name, an unknown form type and fields of a form (other than a result)
// without a var.
func Parse(n *xmltok.Node) (*Form, error) {
	if n.Name.Space != NS || n.Name.Local != "x" {
		return nil, fmt.Errorf("%w: element {%s}%s", ErrInvalid, n.Name.Space, n.Name.Local)
	}
	f := &Form{Type: Type(n.Attr("type"))}
	switch f.Type {
	case TypeForm, TypeSubmit, TypeCancel, TypeResult:
	default:
		return nil, fmt.Errorf("%w: type %q", ErrInvalid, f.Type)
	}
	for _, c := range n.Children {
		if c.Name.Space != NS {
			continue
		}
		switch c.Name.Local {
		case "title":
			f.Title = c.Text
		case "instructions":
			f.Instructions = append(f.Instructions, c.Text)
		case "field":
			fl := Field{
				Var:   c.Attr("var"),
				Type:  FieldType(c.Attr("type")),
				Label: c.Attr("label"),
			}
			if fl.Var == "" && fl.Type != Fixed {
				return nil, fmt.Errorf("%w: field without var", ErrInvalid)
			}
			for _, fc := range c.Children {
				if fc.Name.Space != NS {
					continue
				}
				switch fc.Name.Local {
				case "value":
					fl.Values = append(fl.Values, fc.Text)
				case "desc":
					fl.Desc = fc.Text
				case "required":
					fl.Required = true
				case "option":
					o := Option{Label: fc.Attr("label")}
					if v := fc.Child(NS, "value"); v != nil {
						o.Value = v.Text
					}
					fl.Options = append(fl.Options, o)
				}
			}
			f.Fields = append(f.Fields, fl)
		}
	}
	return f, nil
}

// Node returns the jabber:x:data element for f.
func (f *Form) Node() *xmltok.Node {
	x := xmltok.NewNode(NS, "x", attr("type", string(f.Type)))
	if f.Title != "" {
		x.Add(xmltok.NewNode(NS, "title").SetText(f.Title))
	}
	for _, in := range f.Instructions {
		x.Add(xmltok.NewNode(NS, "instructions").SetText(in))
	}
	for i := range f.Fields {
		fl := &f.Fields[i]
		var attrs []xmltok.Attr
		if fl.Var != "" {
			attrs = append(attrs, attr("var", fl.Var))
		}
		if fl.Type != "" {
			attrs = append(attrs, attr("type", string(fl.Type)))
		}
		if fl.Label != "" {
			attrs = append(attrs, attr("label", fl.Label))
		}
		fn := xmltok.NewNode(NS, "field", attrs...)
		if fl.Desc != "" {
			fn.Add(xmltok.NewNode(NS, "desc").SetText(fl.Desc))
		}
		if fl.Required {
			fn.Add(xmltok.NewNode(NS, "required"))
		}
		for _, v := range fl.Values {
			fn.Add(xmltok.NewNode(NS, "value").SetText(v))
		}
		for _, o := range fl.Options {
			var oa []xmltok.Attr
			if o.Label != "" {
				oa = append(oa, attr("label", o.Label))
			}
			fn.Add(xmltok.NewNode(NS, "option", oa...).Add(xmltok.NewNode(NS, "value").SetText(o.Value)))
		}
		x.Add(fn)
	}
	return x
}

func attr(name, value string) xmltok.Attr {
	return xmltok.Attr{Name: xmltok.Name{Local: name}, Value: value}
}
