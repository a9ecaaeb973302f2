"""Secret format and hashing, passwords, keys and JWTs: the only home of crypto code."""
