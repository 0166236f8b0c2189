"""The Cariflex site VEN: an OpenADR 2.0b client per site, with its event lifecycle, opt policy,
reports and a local store so a restart resumes where it stopped."""
