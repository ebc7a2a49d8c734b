package jid_test

import (
	"fmt"

	"junction/xmpp/jid"
)

func ExampleParse() {
	j, err := jid.Parse("Juliet@Example.COM/Balcony")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(j)
	fmt.Println(j.Bare())
	fmt.Println(j.Domain())
	fmt.Println(j.Resourcepart())

	_, err = jid.Parse("juliet@example.com/")
	fmt.Println(err)
	// Output:
	// juliet@example.com/Balcony
	// juliet@example.com
	// example.com
	// Balcony
	// jid: invalid resourcepart: empty
}

func ExampleEscape() {
	local := jid.Escape("alice@example.com")
	j, _ := jid.New(local, "email.example.org", "")
	fmt.Println(j)
	fmt.Println(jid.Unescape(j.Localpart()))
	// Output:
	// alice\40example.com@email.example.org
	// alice@example.com
}
