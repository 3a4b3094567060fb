"""`ioc demo`: a living Thái Bình fleet on real servers, onboarded through the platform's real paths."""
