package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/notary-go/notary/client"
)

// completionCommand is `notary completion bash|zsh|fish`: cobra's
// generated scripts, which call back `notary __complete ...` for GUNs.
func (a *app) completionCommand(root *cobra.Command) *cobra.Command {
	return &cobra.Command{
		Use:   "completion bash|zsh|fish",
		Short: "Prints a shell completion script.",
		Long: "Prints a completion script for bash, zsh or fish; GUNs complete from the trust directory.\n\n" +
			"  bash:  source <(notary completion bash)      (or save it in /etc/bash_completion.d/notary)\n" +
			"  zsh:   notary completion zsh > \"${fpath[1]}/_notary\"\n" +
			"  fish:  notary completion fish > ~/.config/fish/completions/notary.fish",
		ValidArgs: []string{"bash", "zsh", "fish"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 || (args[0] != "bash" && args[0] != "zsh" && args[0] != "fish") {
				return usageError("want one of bash, zsh, fish")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.stdout, true)
			case "zsh":
				return root.GenZshCompletion(a.stdout)
			default:
				return root.GenFishCompletion(a.stdout, true)
			}
		},
	}
}

// addGUNCompletion makes every command whose usage names a GUN complete
// it from the trust directory: the first argument, or every argument
// for commands taking several ("GUN ..."). Keyed on the usage line so a
// new command gets completion by documenting its GUN argument.
func (a *app) addGUNCompletion(c *cobra.Command) {
	for _, sub := range c.Commands() {
		a.addGUNCompletion(sub)
	}
	if c.ValidArgsFunction != nil || !strings.Contains(c.Use, "GUN") {
		return
	}
	many := strings.Contains(c.Use, "GUN ...")
	c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 && !many {
			// Later arguments are targets or files.
			return nil, cobra.ShellCompDirectiveDefault
		}
		return a.localGUNs(toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// localGUNs are the collections cached in the trust directory starting
// with prefix; none (not an error) when the settings or directory do not
// load, since a completion has nowhere to report one.
func (a *app) localGUNs(prefix string) []cobra.Completion {
	s, err := a.config()
	if err != nil {
		return nil
	}
	guns, err := client.LocalGUNs(s.TrustDir)
	if err != nil {
		return nil
	}
	var out []cobra.Completion
	for _, g := range guns {
		if strings.HasPrefix(g, prefix) {
			out = append(out, g)
		}
	}
	return out
}
