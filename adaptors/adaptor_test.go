package adaptors

import "testing"

// TestModeNumbers pins the numbering (a new mode is appended and never
// renumbers an old one) and the names logs show.
func TestModeNumbers(t *testing.T) {
	tests := []struct {
		m    Mode
		n    uint8
		name string
	}{
		{ModeChat, 1, "chat"},
		{ModeCompletions, 2, "completions"},
		{ModeEmbeddings, 3, "embeddings"},
		{ModeImagesGenerations, 4, "images_generations"},
		{ModeImagesEdits, 5, "images_edits"},
		{ModeImagesVariations, 6, "images_variations"},
		{ModeAudioSpeech, 7, "audio_speech"},
		{ModeAudioTranscriptions, 8, "audio_transcriptions"},
		{ModeAudioTranslations, 9, "audio_translations"},
		{ModeModerations, 10, "moderations"},
		{ModeRerank, 11, "rerank"},
		{ModeResponses, 12, "responses"},
		{0, 0, "unknown"},
		{13, 13, "unknown"},
	}
	for _, tt := range tests {
		if uint8(tt.m) != tt.n || tt.m.String() != tt.name {
			t.Errorf("mode %d %q, want %d %q", tt.m, tt.m.String(), tt.n, tt.name)
		}
	}
}
