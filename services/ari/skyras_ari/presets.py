"""Mastering presets: where studios publish, and the loudness each place expects.

Each preset names the document its numbers come from. `integrated_lufs` is the
programme loudness (ITU-R BS.1770 / EBU R 128 gating); `true_peak_dbtp` the
ceiling no inter-sample peak may pass. Podcasts have a mono target of their
own (a mono programme played on both ears sounds 3 LU louder).
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    integrated_lufs: float
    true_peak_dbtp: float
    source: str
    # Target for a mono master where the source document gives one.
    mono_integrated_lufs: float | None = None

    def target_lufs(self, channels: int) -> float:
        if channels == 1 and self.mono_integrated_lufs is not None:
            return self.mono_integrated_lufs
        return self.integrated_lufs


PRESETS: dict[str, Preset] = {
    p.name: p
    for p in (
        Preset(
            name="streaming",
            title="Streaming (Spotify, YouTube, Tidal, Amazon)",
            integrated_lufs=-14.0,
            true_peak_dbtp=-1.0,
            source=(
                "Spotify for Artists, 'Loudness normalization' (-14 LUFS integrated, "
                "masters at or below -1 dBTP); AES TD1008 (2021) for streaming services"
            ),
        ),
        Preset(
            name="apple_music",
            title="Apple Music (Sound Check)",
            integrated_lufs=-16.0,
            true_peak_dbtp=-1.0,
            source=(
                "Apple Digital Masters / Sound Check normalisation to -16 LUFS; "
                "AES TD1008 (2021), -1 dBTP for lossy encoding"
            ),
        ),
        Preset(
            name="podcast",
            title="Podcast (Apple Podcasts and others)",
            integrated_lufs=-16.0,
            mono_integrated_lufs=-19.0,
            true_peak_dbtp=-1.0,
            source=(
                "Apple Podcasts audio requirements (-16 LKFS, peaks below -1 dBFS); "
                "AES TD1004.1.15-10 (-16 LUFS stereo, -19 LUFS mono)"
            ),
        ),
        Preset(
            name="ebu_r128",
            title="Broadcast, Europe (EBU R 128)",
            integrated_lufs=-23.0,
            true_peak_dbtp=-1.0,
            source="EBU R 128 (2020): -23 LUFS programme loudness, -1 dBTP maximum true peak",
        ),
        Preset(
            name="atsc_a85",
            title="Broadcast, United States (ATSC A/85)",
            integrated_lufs=-24.0,
            true_peak_dbtp=-2.0,
            source="ATSC A/85:2013 Recommended Practice (-24 LKFS, -2 dBTP), per the CALM Act",
        ),
    )
}

# Names people type in chat or in a `master:<preset>` tag, mapped to a preset.
ALIASES: dict[str, str] = {
    "spotify": "streaming",
    "youtube": "streaming",
    "apple": "apple_music",
    "apple-music": "apple_music",
    "applemusic": "apple_music",
    "ebu": "ebu_r128",
    "r128": "ebu_r128",
    "ebu-r128": "ebu_r128",
    "broadcast": "ebu_r128",
    "atsc": "atsc_a85",
    "a85": "atsc_a85",
    "atsc-a85": "atsc_a85",
}

DEFAULT_PRESET = "streaming"


def find_preset(name: str) -> Preset | None:
    key = name.strip().lower()
    key = ALIASES.get(key, key).replace("-", "_")
    return PRESETS.get(key)
