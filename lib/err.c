/*
 * Error codes to text.
 */
#include <vpnroute/vpnroute.h>

struct err_text {
	int code;
	const char *name;
	const char *text;
};

static const struct err_text errors[] = {
	{ VPNR_OK, "VPNR_OK", "success" },
	{ VPNR_ASYNC, "VPNR_ASYNC", "operation completes later" },
	{ VPNR_ERR_INVALID_ARGUMENT, "VPNR_ERR_INVALID_ARGUMENT",
	    "invalid argument" },
	{ VPNR_ERR_INVALID_STATE, "VPNR_ERR_INVALID_STATE", "invalid state" },
	{ VPNR_ERR_NOT_FOUND, "VPNR_ERR_NOT_FOUND", "not found" },
	{ VPNR_ERR_EXISTS, "VPNR_ERR_EXISTS", "already exists" },
	{ VPNR_ERR_UNSUPPORTED, "VPNR_ERR_UNSUPPORTED", "not supported" },
	{ VPNR_ERR_WOULDBLOCK, "VPNR_ERR_WOULDBLOCK", "would block" },
	{ VPNR_ERR_IN_CALLBACK, "VPNR_ERR_IN_CALLBACK",
	    "not allowed inside a callback" },
	{ VPNR_ERR_BUFFER_TOO_SMALL, "VPNR_ERR_BUFFER_TOO_SMALL",
	    "buffer too small" },
	{ VPNR_ERR_LIMIT, "VPNR_ERR_LIMIT", "configured limit reached" },
	{ VPNR_ERR_MALFORMED, "VPNR_ERR_MALFORMED", "malformed message" },
	{ VPNR_ERR_AUTH_FAILED, "VPNR_ERR_AUTH_FAILED",
	    "authentication failed" },
	{ VPNR_ERR_NO_PROPOSAL, "VPNR_ERR_NO_PROPOSAL", "no proposal chosen" },
	{ VPNR_ERR_PEER_CLOSED, "VPNR_ERR_PEER_CLOSED", "peer closed" },
	{ VPNR_ERR_TS_UNACCEPTABLE, "VPNR_ERR_TS_UNACCEPTABLE",
	    "traffic selectors unacceptable" },
	{ VPNR_ERR_TIMEOUT, "VPNR_ERR_TIMEOUT", "peer did not answer" },
	{ VPNR_ERR_PEER_ERROR, "VPNR_ERR_PEER_ERROR",
	    "peer reported an error" },
	{ VPNR_ERR_REPLAY, "VPNR_ERR_REPLAY", "replayed or too old packet" },
	{ VPNR_ERR_INTEGRITY, "VPNR_ERR_INTEGRITY", "integrity check failed" },
	{ VPNR_ERR_NOT_IKE, "VPNR_ERR_NOT_IKE", "datagram is not IKE" },
	{ VPNR_ERR_TUNNEL_DOWN, "VPNR_ERR_TUNNEL_DOWN",
	    "the tunnel went down" },
	{ VPNR_ERR_DEAD_PEER, "VPNR_ERR_DEAD_PEER",
	    "peer declared dead (liveness timeout)" },
	{ VPNR_ERR_LOCAL_CLOSE, "VPNR_ERR_LOCAL_CLOSE", "closed locally" },
	{ VPNR_ERR_DATAPLANE, "VPNR_ERR_DATAPLANE",
	    "data-plane operation failed" },
	{ VPNR_ERR_CRYPTO, "VPNR_ERR_CRYPTO", "cryptographic failure" },
	{ VPNR_ERR_FATAL, "VPNR_ERR_FATAL", "fatal error" },
	{ VPNR_ERR_NOMEM, "VPNR_ERR_NOMEM", "out of memory" },
	{ VPNR_ERR_CALLBACK_FAILURE, "VPNR_ERR_CALLBACK_FAILURE",
	    "a callback asked to abort" },
	{ VPNR_ERR_INTERNAL, "VPNR_ERR_INTERNAL", "internal error" },
};

static const struct err_text *
err_find(int err)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == err)
			return &errors[i];
	return NULL;
}

VPNR_API const char *
vpnr_strerror(int err)
{
	const struct err_text *e = err_find(err);

	return e != NULL ? e->text : "unknown error";
}

VPNR_API const char *
vpnr_err_name(int err)
{
	const struct err_text *e = err_find(err);

	return e != NULL ? e->name : "VPNR_ERR_UNKNOWN";
}

VPNR_API int
vpnr_err_is_fatal(int err)
{
	return err <= VPNR_ERR_FATAL;
}
