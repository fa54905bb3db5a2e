package main

import "github.com/spf13/cobra"

// addImageBridgeCommands adds "image convert" under image.
func (a *app) addImageBridgeCommands(image *cobra.Command) {}
