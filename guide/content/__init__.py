"""The content library: load, check, render and version guides written in Markdown and YAML."""
