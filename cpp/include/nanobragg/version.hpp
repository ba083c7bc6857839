/// The package version, read by pyproject.toml's regex.
#pragma once
#define NANOBRAGG_VERSION "0.1.0"
