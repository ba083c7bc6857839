# Placeholder until the CUDA backend lands: enabling the language proves the toolkit works.
enable_language(CUDA)
