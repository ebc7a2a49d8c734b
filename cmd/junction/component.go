package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"junction/config"
	"junction/gateway"
	"junction/gateway/admin"
)

func cmdComponent(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usageError{"component needs a verb: list, enable, disable or connect"}
	}
	verb := args[0]
	if verb == "connect" {
		return cmdComponentConnect(ctx, args[1:], stdin, stderr)
	}
	cfgPath, rest, err := flags("component "+verb, args[1:])
	if err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	sock := gateway.ControlSocket(cfg.DataDir)
	var out string
	switch {
	case verb == "list" && len(rest) == 0:
		out, err = admin.Call(sock, "component", "list")
	case (verb == "enable" || verb == "disable") && len(rest) == 1:
		out, err = admin.Call(sock, "component", verb, rest[0])
	default:
		return usageError{fmt.Sprintf("component %s: wrong arguments", verb)}
	}
	if err != nil {
		return err
	}
	if verb == "list" && strings.TrimSpace(out) == "" {
		out = "no components configured (hosts[].muc, components.external)\n"
	}
	fmt.Fprint(stdout, out)
	return nil
}
