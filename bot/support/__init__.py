"""The support side: tickets relayed between customers' chats and the agents' group."""
