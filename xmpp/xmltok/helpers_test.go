package xmltok

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// stdParse builds a Node tree for raw with encoding/xml, as Parse would
// with defaultNS: raw is wrapped in an element declaring defaultNS and the
// stream prefix. Comments, processing instructions and directives are
// refused. Attribute values are compared with foldSpace, since encoding/xml
// does not normalize whitespace in them (XML 1.0 §3.3.3) and Parse does.
func stdParse(raw []byte, defaultNS string) (*Node, error) {
	var in bytes.Buffer
	in.WriteString(`<w xmlns="`)
	if err := xml.EscapeText(&in, []byte(defaultNS)); err != nil {
		return nil, err
	}
	in.WriteString(`" xmlns:stream="` + NSStream + `">`)
	in.Write(raw)
	in.WriteString(`</w>`)
	d := xml.NewDecoder(&in)
	var (
		stack []*Node
		texts []*strings.Builder
		root  *Node
		depth int
	)
	for {
		t, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := t.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 {
				continue
			}
			n := &Node{Name: Name(t.Name)}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || a.Name.Space == "" && a.Name.Local == "xmlns" {
					continue
				}
				n.Attrs = append(n.Attrs, Attr{Name: Name(a.Name), Value: a.Value})
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			} else if root == nil {
				root = n
			} else {
				return nil, errors.New("stdParse: more than one element")
			}
			stack = append(stack, n)
			texts = append(texts, new(strings.Builder))
		case xml.EndElement:
			depth--
			if depth == 0 {
				continue
			}
			stack[len(stack)-1].Text = texts[len(texts)-1].String()
			stack, texts = stack[:len(stack)-1], texts[:len(texts)-1]
		case xml.CharData:
			if len(texts) > 0 {
				texts[len(texts)-1].Write(t)
			}
		default:
			return nil, fmt.Errorf("stdParse: %T not allowed", t)
		}
	}
	if root == nil {
		return nil, errors.New("stdParse: no element")
	}
	return root, nil
}

// foldSpace maps tab, newline and carriage return to spaces.
func foldSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return ' '
		}
		return r
	}, s)
}

// diffNodes describes the first difference between a and b, or returns ""
// if they are equal. With fold, attribute values and namespaces (which come
// from attribute values) are compared after foldSpace.
func diffNodes(a, b *Node, fold bool) string {
	return diffAt("/", a, b, fold)
}

func diffAt(path string, a, b *Node, fold bool) string {
	if a == nil || b == nil {
		if a == b {
			return ""
		}
		return fmt.Sprintf("%s: got %v, want %v", path, a, b)
	}
	path += a.Name.Local
	an, bn := a.Name, b.Name
	if fold {
		an.Space, bn.Space = foldSpace(an.Space), foldSpace(bn.Space)
	}
	if an != bn {
		return fmt.Sprintf("%s: got name %+v, want %+v", path, a.Name, b.Name)
	}
	if len(a.Attrs) != len(b.Attrs) {
		return fmt.Sprintf("%s: got attributes %+v, want %+v", path, a.Attrs, b.Attrs)
	}
	for i := range a.Attrs {
		x, y := a.Attrs[i], b.Attrs[i]
		if fold {
			x.Value, y.Value = foldSpace(x.Value), foldSpace(y.Value)
			x.Name.Space, y.Name.Space = foldSpace(x.Name.Space), foldSpace(y.Name.Space)
		}
		if x != y {
			return fmt.Sprintf("%s: got attribute %+v, want %+v", path, a.Attrs[i], b.Attrs[i])
		}
	}
	if a.Text != b.Text {
		return fmt.Sprintf("%s: got text %q, want %q", path, a.Text, b.Text)
	}
	if len(a.Children) != len(b.Children) {
		return fmt.Sprintf("%s: got %d children, want %d", path, len(a.Children), len(b.Children))
	}
	for i := range a.Children {
		if d := diffAt(path+"/", a.Children[i], b.Children[i], fold); d != "" {
			return d
		}
	}
	return ""
}

// condition returns err's stream error condition, or "" if err is not an *Error.
func condition(err error) string {
	var xe *Error
	if errors.As(err, &xe) {
		return xe.Condition
	}
	return ""
}
