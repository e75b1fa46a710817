// Datasets on disk: a shard of clips written by worker threads, and shard manifests merged.
#include <fmt/core.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>
#include <thread>

#include "earshot/audio_io.hpp"
#include "earshot/error.hpp"
#include "earshot/synth.hpp"
#include "earshot/text_file.hpp"

namespace earshot {

namespace fs = std::filesystem;

namespace {

constexpr const char* kManifestName = "manifest.jsonl";

std::size_t parse_count(const std::string& text, const std::string& whole) {
  std::size_t value = 0;
  const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || status != std::errc() || end != text.data() + text.size()) {
    throw Error(fmt::format("shard '{}' is not of the form i/N (e.g. 3/8)", whole));
  }
  return value;
}

// Shared between the workers and the thread that reports progress.
struct WorkState {
  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::condition_variable changed;
  std::size_t done = 0;
  std::size_t finished_workers = 0;
  std::string first_error;
};

void run_worker(const Synthesizer& synthesizer, const DatasetRun& run,
                const std::vector<std::size_t>& indices, std::vector<ClipRecord>& records,
                WorkState& state) {
  for (std::size_t position = state.next++; position < indices.size() && !state.stop;
       position = state.next++) {
    try {
      SynthesizedClip clip = synthesizer.synthesize(run.seed, indices[position]);
      write_audio(run.out_dir / clip.record.file, clip.audio);
      records[position] = std::move(clip.record);
    } catch (const std::exception& e) {
      const std::lock_guard lock(state.mutex);
      if (state.first_error.empty()) {
        state.first_error = fmt::format("clip {}: {}", indices[position], e.what());
      }
      state.stop = true;
    }
    const std::lock_guard lock(state.mutex);
    ++state.done;
    state.changed.notify_all();
  }
  const std::lock_guard lock(state.mutex);
  ++state.finished_workers;
  state.changed.notify_all();
}

DatasetSummary summarise(const std::vector<ClipRecord>& records, const fs::path& manifest) {
  DatasetSummary summary;
  summary.manifest = manifest;
  summary.clips = records.size();
  for (const ClipRecord& record : records) {
    summary.audio_s += record.duration_s;
    summary.failed_placements += static_cast<std::size_t>(record.failed_placements);
    for (const InsertedWord& word : record.words) {
      ++(word.kind == WordKind::kTrigger ? summary.triggers : summary.negatives);
    }
  }
  return summary;
}

std::vector<ClipRecord> read_records(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(fmt::format("cannot open manifest part '{}'", path.string()));
  std::vector<ClipRecord> records;
  std::string line;
  for (std::size_t line_number = 1; std::getline(in, line); ++line_number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    try {
      records.push_back(nlohmann::json::parse(line).get<ClipRecord>());
    } catch (const std::exception& e) {
      throw Error(
          fmt::format("manifest part '{}' line {}: {}", path.string(), line_number, e.what()));
    }
  }
  return records;
}

// (i, N) from "manifest.shard-i-of-N.jsonl", or nothing for any other name.
std::optional<std::pair<std::size_t, std::size_t>> parse_part_name(const std::string& name) {
  constexpr std::string_view prefix = "manifest.shard-";
  constexpr std::string_view middle = "-of-";
  constexpr std::string_view suffix = ".jsonl";
  if (!name.starts_with(prefix) || !name.ends_with(suffix)) return std::nullopt;
  const std::string_view core(name.data() + prefix.size(),
                              name.size() - prefix.size() - suffix.size());
  const auto split = core.find(middle);
  if (split == std::string_view::npos) return std::nullopt;
  const auto number = [](std::string_view text) -> std::optional<std::size_t> {
    std::size_t value = 0;
    const auto [end, status] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || status != std::errc() || end != text.data() + text.size()) {
      return std::nullopt;
    }
    return value;
  };
  const auto index = number(core.substr(0, split));
  const auto count = number(core.substr(split + middle.size()));
  if (!index || !count) return std::nullopt;
  return std::pair{*index, *count};
}

}  // namespace

Shard Shard::parse(const std::string& text) {
  const auto slash = text.find('/');
  if (slash == std::string::npos) {
    throw Error(fmt::format("shard '{}' is not of the form i/N (e.g. 3/8)", text));
  }
  Shard shard{parse_count(text.substr(0, slash), text), parse_count(text.substr(slash + 1), text)};
  if (shard.count == 0 || shard.index >= shard.count) {
    throw Error(fmt::format("shard '{}': need 0 <= i < N", text));
  }
  return shard;
}

std::string Shard::manifest_name() const {
  if (count == 1) return kManifestName;
  return fmt::format("manifest.shard-{}-of-{}.jsonl", index, count);
}

std::vector<std::size_t> Shard::clip_indices(std::size_t clip_count) const {
  std::vector<std::size_t> indices;
  for (std::size_t i = index; i < clip_count; i += count)
    indices.push_back(i);
  return indices;
}

void write_manifest_file(const fs::path& path, std::span<const ClipRecord> records) {
  std::string text;
  for (const ClipRecord& record : records) {
    text += nlohmann::json(record).dump();
    text += '\n';
  }
  write_text_file(path, text);
}

DatasetSummary synthesize_dataset(const Synthesizer& synthesizer, const DatasetRun& run) {
  std::error_code error;
  fs::create_directories(run.out_dir / "clips", error);
  if (error) {
    throw Error(fmt::format("cannot create output directory '{}': {}",
                            (run.out_dir / "clips").string(), error.message()));
  }
  const std::vector<std::size_t> indices = run.shard.clip_indices(run.clip_count);
  std::vector<ClipRecord> records(indices.size());
  WorkState state;
  const std::size_t worker_count =
      std::clamp<std::size_t>(static_cast<std::size_t>(std::max(run.threads, 1)), 1,
                              std::max<std::size_t>(indices.size(), 1));
  {
    std::vector<std::jthread> workers;
    for (std::size_t w = 0; w < worker_count; ++w) {
      workers.emplace_back([&] { run_worker(synthesizer, run, indices, records, state); });
    }
    std::unique_lock lock(state.mutex);
    while (state.finished_workers < worker_count) {
      state.changed.wait_for(lock, std::chrono::milliseconds(250));
      const std::size_t done = state.done;
      lock.unlock();
      if (run.progress) run.progress(done, indices.size());
      lock.lock();
    }
  }
  if (!state.first_error.empty()) throw Error(state.first_error);
  if (!run.provenance_json.empty()) {
    write_text_file(run.out_dir / "synth_config.json", run.provenance_json,
                    fmt::format("-{}-of-{}", run.shard.index, run.shard.count));
  }
  const fs::path manifest = run.out_dir / run.shard.manifest_name();
  write_manifest_file(manifest, records);
  return summarise(records, manifest);
}

std::size_t merge_manifest_shards(const fs::path& out_dir) {
  std::map<std::size_t, fs::path> parts;
  std::size_t shard_count = 0;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(out_dir, error)) {
    const auto part = parse_part_name(entry.path().filename().string());
    if (!part) continue;
    const auto [index, count] = *part;
    if (shard_count != 0 && count != shard_count) {
      throw Error(
          fmt::format("'{}' holds manifest parts of {} and of {} shards; remove the "
                      "stale ones before merging",
                      out_dir.string(), shard_count, count));
    }
    shard_count = count;
    parts[index] = entry.path();
  }
  if (error) throw Error(fmt::format("cannot list '{}': {}", out_dir.string(), error.message()));
  if (parts.empty()) {
    throw Error(
        fmt::format("no manifest.shard-i-of-N.jsonl files in '{}' to merge", out_dir.string()));
  }
  std::vector<std::string> missing;
  for (std::size_t i = 0; i < shard_count; ++i) {
    if (!parts.contains(i)) missing.push_back(fmt::format("{}/{}", i, shard_count));
  }
  if (!missing.empty()) {
    throw Error(fmt::format("cannot merge '{}': shard(s) {} have not finished (no manifest part)",
                            out_dir.string(), fmt::join(missing, ", ")));
  }
  std::vector<ClipRecord> records;
  for (const auto& [index, path] : parts) {
    std::vector<ClipRecord> part = read_records(path);
    records.insert(records.end(), std::make_move_iterator(part.begin()),
                   std::make_move_iterator(part.end()));
  }
  std::sort(records.begin(), records.end(),
            [](const ClipRecord& a, const ClipRecord& b) { return a.index < b.index; });
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (records[i].index == records[i - 1].index) {
      throw Error(fmt::format("cannot merge '{}': clip {} appears in two manifest parts",
                              out_dir.string(), records[i].index));
    }
  }
  write_manifest_file(out_dir / kManifestName, records);
  return records.size();
}

}  // namespace earshot
