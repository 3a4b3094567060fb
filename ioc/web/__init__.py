"""The built-in status page (server-rendered, no CDN) and the offline API docs."""
