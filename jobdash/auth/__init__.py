"""Authentication as `httpx.Auth`: static token, IAM password (`methods`), AK/SK request
signing (`aksk`), the 0600 token cache, the token's service catalog and IAM login errors."""
