"""Cases (研判、处置): an incident's alerts as one case, from 待研判 to 办结, with deadlines that chase people."""
