// The PRIMECLUSTER layer; its parsers land in the next commit.
