"""Street offices 街道: the person registry 残疾人基本信息 and the annual needs survey 康复需求调查."""
